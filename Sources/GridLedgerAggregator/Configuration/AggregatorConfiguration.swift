import Foundation
public import LedgerCore
public import ServiceConfiguration

/// Everything `gridledger-aggregator run` needs, from its YAML file (docs/AGGREGATOR.md).
public struct AggregatorConfiguration: Sendable {
    /// Holds the database and, unless `keyFile` says otherwise, the aggregator's key.
    public var stateDirectory: String
    public var keyFile: String
    public var databaseFile: String
    public var broker: BrokerConfiguration
    public var blocks: BlockSettings
    public var rules: LedgerRules
    public var ingest: IngestSettings
    public var http: HTTPSettings?

    public struct BlockSettings: Sendable, Hashable {
        /// A block is minted this long after the previous one when anything is pending.
        public var intervalMillis: Int64
        /// …or as soon as this many records are pending.
        public var maximumRecords: Int
        /// zlib level for stored block bodies (0 stores them raw).
        public var compressionLevel: Int32

        public init(intervalMillis: Int64 = 1000, maximumRecords: Int = 8192, compressionLevel: Int32 = 6) {
            self.intervalMillis = intervalMillis
            self.maximumRecords = maximumRecords
            self.compressionLevel = compressionLevel
        }
    }

    public struct IngestSettings: Sendable, Hashable {
        /// Parallel signature checkers.
        public var workers: Int
        /// Received messages buffered; when a worker's share is full the MQTT client waits.
        public var bufferMessages: Int
        /// The same bound in payload bytes (a bundle may be 64 KiB), whichever is reached first.
        public var bufferBytes: Int

        public init(workers: Int = 2, bufferMessages: Int = 65536, bufferBytes: Int = 256 << 20) {
            self.workers = workers
            self.bufferMessages = bufferMessages
            self.bufferBytes = bufferBytes
        }
    }

    public struct HTTPSettings: Sendable, Hashable {
        public var host: String
        public var port: Int
        /// API tokens (docs/API.md); nil: only unauthenticated reads.
        public var tokensFile: String?
        /// HTTPS: a PEM certificate chain and its unencrypted PEM key. Without it the API speaks
        /// plain HTTP, for loopback or behind a TLS-terminating proxy only.
        public var tls: TLS?

        public struct TLS: Sendable, Hashable {
            public var certificateFile: String
            public var keyFile: String

            public init(certificateFile: String, keyFile: String) {
                self.certificateFile = certificateFile
                self.keyFile = keyFile
            }
        }

        public init(host: String = "127.0.0.1", port: Int = 8480, tokensFile: String? = nil, tls: TLS? = nil) {
            self.host = host
            self.port = port
            self.tokensFile = tokensFile
            self.tls = tls
        }
    }

    public init(
        stateDirectory: String, keyFile: String? = nil, databaseFile: String? = nil, broker: BrokerConfiguration,
        blocks: BlockSettings = .init(), rules: LedgerRules = .init(), ingest: IngestSettings = .init(), http: HTTPSettings? = nil
    ) {
        self.stateDirectory = stateDirectory
        self.keyFile = keyFile ?? stateDirectory + "/aggregator.key"
        self.databaseFile = databaseFile ?? stateDirectory + "/ledger.db"
        self.broker = broker
        self.blocks = blocks
        self.rules = rules
        self.ingest = ingest
        self.http = http
    }

    public static func load(path: String) throws(ConfigurationError) -> AggregatorConfiguration {
        try parse(yaml: try ConfigurationFile.read(path: path), file: path)
    }

    /// Parses configuration text; `file` is used in error messages.
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> AggregatorConfiguration {
        let top = try ConfigurationFile.root(yaml: yaml, file: file).mapping(allowing: [
            "stateDirectory", "keyFile", "database", "broker", "blocks", "rules", "ingest", "http",
        ])
        let stateDirectory = try top.optional("stateDirectory")?.absolutePath() ?? "/var/lib/gridledger-aggregator"
        var configuration = AggregatorConfiguration(
            stateDirectory: stateDirectory,
            keyFile: try top.optional("keyFile")?.absolutePath(),
            databaseFile: try top.optional("database")?.absolutePath(),
            broker: try BrokerConfiguration.parse(try top.required("broker")))
        if let node = top.optional("blocks") {
            let map = try node.mapping(allowing: ["intervalSeconds", "maximumRecords", "compressionLevel"])
            configuration.blocks = BlockSettings(
                intervalMillis: try map.optional("intervalSeconds")?.milliseconds(inSeconds: 0.01...60) ?? 1000,
                maximumRecords: try map.optional("maximumRecords")?.int(in: 1...Block.maximumRecords) ?? 8192,
                compressionLevel: Int32(try map.optional("compressionLevel")?.int(in: 0...9) ?? 6))
        }
        if let node = top.optional("rules") {
            let map = try node.mapping(allowing: ["futureToleranceSeconds", "gapGraceSeconds", "maximumHeldPerMeter"])
            configuration.rules = LedgerRules(
                futureToleranceMillis: try map.optional("futureToleranceSeconds")?.milliseconds(inSeconds: 0...86400) ?? 120_000,
                gapGraceMillis: try map.optional("gapGraceSeconds")?.milliseconds(inSeconds: 0...86400) ?? 330_000,
                maximumHeldPerMeter: try map.optional("maximumHeldPerMeter")?.int(in: 1...1_000_000) ?? 4096)
        }
        if let node = top.optional("ingest") {
            let map = try node.mapping(allowing: ["workers", "bufferMessages", "bufferMegabytes"])
            configuration.ingest = IngestSettings(
                workers: try map.optional("workers")?.int(in: 1...64) ?? 2,
                bufferMessages: try map.optional("bufferMessages")?.int(in: 16...10_000_000) ?? 65536,
                bufferBytes: (try map.optional("bufferMegabytes")?.int(in: 1...65536) ?? 256) << 20)
        }
        if let node = top.optional("http") {
            let map = try node.mapping(allowing: ["host", "port", "tokensFile", "tls"])
            var tls: HTTPSettings.TLS?
            if let tlsNode = map.optional("tls") {
                let tlsMap = try tlsNode.mapping(allowing: ["certificateFile", "keyFile"])
                tls = HTTPSettings.TLS(
                    certificateFile: try tlsMap.required("certificateFile").absolutePath(), keyFile: try tlsMap.required("keyFile").absolutePath())
            }
            configuration.http = HTTPSettings(
                host: try map.optional("host")?.string() ?? "127.0.0.1",
                port: try map.optional("port")?.int(in: 0...65535) ?? 8480,
                tokensFile: try map.optional("tokensFile")?.absolutePath(), tls: tls)
        }
        return configuration
    }
}
