// swift-tools-version:6.2
import PackageDescription

/// Applied to every target: Swift 6 language mode (strict concurrency) and a few upcoming features.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "GridLedger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridledger-agent", targets: ["gridledger-agent"]),
        .executable(name: "gridledger", targets: ["gridledger"]),
        .executable(name: "gridledger-aggregator", targets: ["gridledger-aggregator"]),
        .executable(name: "gridledger-bench", targets: ["gridledger-bench"]),
        .library(name: "GridLedgerCore", targets: ["GridLedgerCore"]),
        .library(name: "DeviceProfiles", targets: ["DeviceProfiles"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // MARK: C libraries, each behind a system-library target found by pkg-config.
        .systemLibrary(
            name: "CModbus",
            pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"])]
        ),
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        /// `ntp_adjtime`, read-only, to record whether the gateway clock is synchronised.
        .systemLibrary(name: "CClockState"),
        /// zlib, to deflate stored block bodies.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        // MARK: Pure cores: no I/O, no C import.
        /// The measurement vocabulary (OBIS), exact scaled values, meter readings.
        .target(name: "GridLedgerCore", swiftSettings: swiftSettings),
        /// Modbus data model: function codes, exceptions, register codecs, the reader protocol.
        .target(name: "ModbusCore", swiftSettings: swiftSettings),
        /// Signed reading records: byte-exact encoding (docs/FORMAT.md), per-meter hash chains,
        /// RFC 6962 Merkle batches signed with Ed25519, and their verification.
        .target(
            name: "GridLedgerRecords",
            dependencies: ["GridLedgerCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        /// The ledger: registry, block format, ingest rules (chain, time, counters, holes), the
        /// offline chain verifier and inclusion proofs (docs/FORMAT.md).
        .target(
            name: "LedgerCore",
            dependencies: ["GridLedgerCore", "GridLedgerRecords", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        /// Billing arithmetic: exact rational money, community mechanisms (mid-market rate,
        /// supply-demand ratio, bill sharing, allocation keys), rounding that keeps books balanced.
        .target(name: "BillingCore", swiftSettings: swiftSettings),
        /// Billing contracts: the versioned YAML document (docs/contracts/), validated, and its
        /// calendar of settlement intervals and billing periods in the contract's time zone.
        .target(
            name: "Contracts",
            dependencies: [
                "BillingCore", "YAMLConfiguration",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Settlement from the chain: boundary registers per meter, the contract runner shared by
        /// the aggregator and the verifier, and the settlement record format.
        .target(
            name: "Settlement",
            dependencies: ["BillingCore", "Contracts", "LedgerCore", "GridLedgerRecords", "GridLedgerCore"],
            swiftSettings: swiftSettings
        ),
        /// Invoices per member and billing period, derived from the chain's settlement records:
        /// latest revisions, period bill sharing, fees, VAT, rounding to the minor unit, the
        /// grid-only comparison; rendered as JSON and CSV.
        .target(name: "Invoicing", dependencies: ["BillingCore", "Contracts", "Settlement"], swiftSettings: swiftSettings),
        /// Meter traces: the trace CSV format (timestamp, meter, cumulative registers), its
        /// reader and writer, and importers (Open Power System Data households, power series).
        .target(name: "Traces", swiftSettings: swiftSettings),
        /// Synthetic communities from a seed: BDEW H0 households, rooftop PV, batteries.
        .target(name: "SyntheticCommunity", dependencies: ["Traces"], swiftSettings: swiftSettings),
        /// Device profiles as data: schema, validation, decoding, block planning, SunSpec models.
        .target(
            name: "DeviceProfiles",
            dependencies: [
                "GridLedgerCore", "ModbusCore", "YAMLConfiguration",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Turning a profile into readings: plan execution with fallback, SunSpec discovery,
        /// identification, per-bus scheduling with backoff. Talks to devices only through
        /// `ModbusCore.RegisterReader`, so it is tested without sockets.
        .target(
            name: "MeterPolling",
            dependencies: [
                "GridLedgerCore", "ModbusCore", "DeviceProfiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Transports: thin Swift wrappers around C libraries.
        /// libmodbus client (TCP, RTU) and server contexts.
        .target(name: "ModbusTransport", dependencies: ["CModbus", "ModbusCore"], swiftSettings: swiftSettings),
        /// libmosquitto client as a `Service`: TLS, credentials, keepalive, reconnect, QoS 1, will.
        .target(
            name: "MQTTTransport",
            dependencies: [
                "CMosquitto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// A thin SQLite wrapper: connections, prepared statements, transactions, WAL.
        .target(name: "SQLiteStore", dependencies: ["CSQLite"], swiftSettings: swiftSettings),
        /// The gateway's durable outbox and chain state, on SQLite (WAL).
        .target(name: "AgentOutbox", dependencies: ["SQLiteStore"], swiftSettings: swiftSettings),
        /// The aggregator's chain storage: a small protocol and its SQLite implementation.
        .target(name: "LedgerStore", dependencies: ["LedgerCore", "SQLiteStore", "CZlib"], swiftSettings: swiftSettings),

        /// YAML documents read with `file:line: field: reason` errors (configuration files,
        /// contracts).
        .target(
            name: "YAMLConfiguration",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        /// What the agent and the aggregator configure alike: the broker settings and Ed25519 key
        /// files, on top of `YAMLConfiguration`.
        .target(
            name: "ServiceConfiguration",
            dependencies: [
                "DeviceProfiles", "MQTTTransport", "YAMLConfiguration",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Products.
        /// A Modbus meter simulator serving a profile's register map from a value generator.
        .target(
            name: "MeterSimulator",
            dependencies: [
                "GridLedgerCore", "ModbusCore", "DeviceProfiles", "ModbusTransport", "Traces",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The gateway: configuration, `buildAgent`, and its commands.
        .target(
            name: "GridLedgerAgent",
            dependencies: [
                "GridLedgerCore", "ModbusCore", "DeviceProfiles", "MeterPolling", "ModbusTransport",
                "GridLedgerRecords", "MQTTTransport", "AgentOutbox", "CClockState", "ServiceConfiguration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The aggregator: configuration, ingest, minting, confirmations, `buildAggregator`.
        .target(
            name: "GridLedgerAggregator",
            dependencies: [
                "GridLedgerCore", "GridLedgerRecords", "LedgerCore", "LedgerStore", "MQTTTransport", "ServiceConfiguration",
                "Settlement", "Contracts",
                "MeterPolling",  // SystemWallClock only
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The aggregator's HTTP read API (Hummingbird), composed into its service group.
        .target(
            name: "AggregatorAPI",
            dependencies: [
                "GridLedgerAggregator", "LedgerCore", "LedgerStore", "GridLedgerRecords", "GridLedgerCore", "MeterPolling",
                "Contracts", "Invoicing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// Trace replay: a trace's meters as simulated Modbus devices, real agents and the real
        /// aggregator over a local mosquitto, all on a virtual clock that follows trace time.
        .target(
            name: "TraceReplay",
            dependencies: [
                "GridLedgerCore", "Traces", "MeterSimulator", "DeviceProfiles", "ModbusTransport", "GridLedgerAgent",
                "GridLedgerAggregator", "LedgerCore", "LedgerStore", "ServiceConfiguration",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The operator tool's commands.
        .target(
            name: "GridLedgerOperator",
            dependencies: [
                "GridLedgerCore", "DeviceProfiles", "MeterSimulator", "ModbusTransport", "ModbusCore", "LedgerCore", "LedgerStore",
                "Contracts", "Settlement", "Invoicing", "Traces", "SyntheticCommunity", "TraceReplay",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "gridledger-agent", dependencies: ["GridLedgerAgent"], swiftSettings: swiftSettings),
        .executableTarget(name: "gridledger", dependencies: ["GridLedgerOperator"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "gridledger-aggregator",
            dependencies: [
                "GridLedgerAggregator", "AggregatorAPI", "LedgerCore", "ServiceConfiguration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "gridledger-bench",
            dependencies: [
                "GridLedgerCore", "DeviceProfiles", "MeterPolling", "ModbusTransport", "MeterSimulator", "ModbusCore",
                "GridLedgerAgent", "GridLedgerTestSupport", "GridLedgerRecords", "MQTTTransport",
                "GridLedgerAggregator", "LedgerCore", "LedgerStore", "ServiceConfiguration", "Settlement", "BillingCore",
                "TraceReplay", "SyntheticCommunity", "Traces",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Test support and tests.
        /// Launchers for real peers (pymodbus, socat, mosquitto), temporary directories, processes.
        .target(
            name: "GridLedgerTestSupport",
            dependencies: ["ModbusCore", "DeviceProfiles", "GridLedgerCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MQTTTransportTests",
            dependencies: ["MQTTTransport", "GridLedgerTestSupport", .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GridLedgerAgentTests",
            dependencies: [
                "GridLedgerAgent", "GridLedgerRecords", "GridLedgerCore", "MeterPolling", "AgentOutbox", "GridLedgerTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "AgentOutboxTests", dependencies: ["AgentOutbox", "SQLiteStore", "GridLedgerTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LedgerCoreTests",
            dependencies: ["LedgerCore", "GridLedgerRecords", "GridLedgerCore", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Vectors"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BillingCoreTests",
            dependencies: ["BillingCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SettlementTests",
            dependencies: [
                "Settlement", "BillingCore", "Contracts", "LedgerCore", "GridLedgerRecords", "GridLedgerCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InvoicingTests",
            dependencies: ["Invoicing", "Settlement", "BillingCore", "Contracts", "LedgerCore", "GridLedgerRecords", "GridLedgerCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MeterSimulatorTests", dependencies: ["MeterSimulator", "Traces", "GridLedgerCore"], swiftSettings: swiftSettings),
        .testTarget(name: "TracesTests", dependencies: ["Traces"], swiftSettings: swiftSettings),
        .testTarget(name: "TraceReplayTests", dependencies: ["TraceReplay", "Traces", "LedgerCore", "GridLedgerCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SyntheticCommunityTests", dependencies: ["SyntheticCommunity", "Traces"], swiftSettings: swiftSettings),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts", "BillingCore"], swiftSettings: swiftSettings),
        .testTarget(name: "GridLedgerCoreTests", dependencies: ["GridLedgerCore"], swiftSettings: swiftSettings),
        .testTarget(name: "ModbusCoreTests", dependencies: ["ModbusCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GridLedgerRecordsTests",
            dependencies: ["GridLedgerRecords", "GridLedgerCore", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeviceProfilesTests",
            dependencies: ["DeviceProfiles", "GridLedgerCore", "ModbusCore", "GridLedgerTestSupport"],
            exclude: ["Vectors"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterPollingTests",
            dependencies: [
                "MeterPolling", "DeviceProfiles", "GridLedgerCore", "ModbusCore", "GridLedgerTestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GridLedgerAggregatorTests",
            dependencies: ["GridLedgerAggregator", "GridLedgerRecords", "MQTTTransport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AggregatorAPITests",
            dependencies: [
                "AggregatorAPI", "GridLedgerAggregator", "LedgerCore", "LedgerStore", "GridLedgerRecords", "GridLedgerCore", "GridLedgerTestSupport",
                "Contracts", "Settlement",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "GridLedgerAggregator", "LedgerCore", "LedgerStore", "GridLedgerAgent", "GridLedgerOperator", "MeterSimulator", "MeterPolling", "ModbusTransport",
                "DeviceProfiles", "GridLedgerCore", "GridLedgerTestSupport", "GridLedgerRecords", "MQTTTransport", "AgentOutbox", "Traces",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
