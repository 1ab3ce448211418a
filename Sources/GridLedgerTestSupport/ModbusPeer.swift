import Foundation
public import ModbusCore

/// A pymodbus server (Tests/Peers/modbus_peer.py): a Modbus peer we did not write.
public final class ModbusPeer: Sendable {
    /// The register content of one unit id.
    public struct Unit: Sendable {
        public var input: [(address: Int, words: [UInt16])] = []
        public var holding: [(address: Int, words: [UInt16])] = []
        public var maxRegistersPerRead: Int?
        public var rejectRanges: [(function: RegisterFunction, from: Int, to: Int)] = []

        public init() {}

        public mutating func set(_ function: RegisterFunction, _ address: Int, _ words: [UInt16]) {
            switch function {
            case .input: input.append((address, words))
            case .holding: holding.append((address, words))
            }
        }

        var json: [String: Any] {
            var result: [String: Any] = [
                "registers": [
                    "input": input.map { ["address": $0.address, "words": $0.words.map { Int($0) }] },
                    "holding": holding.map { ["address": $0.address, "words": $0.words.map { Int($0) }] },
                ]
            ]
            if let maxRegistersPerRead { result["maxRegistersPerRead"] = maxRegistersPerRead }
            if !rejectRanges.isEmpty {
                result["rejectRanges"] = rejectRanges.map { ["function": $0.function.rawValue, "from": $0.from, "to": $0.to] }
            }
            return result
        }
    }

    public let process: ChildProcess
    /// TCP port (TCP peers).
    public let port: Int?
    public let requestLog: String
    private let directory: TemporaryDirectory

    /// Starts a TCP peer on a free loopback port.
    public static func tcp(units: [UInt8: Unit], silentUnits: [UInt8] = [], port: Int = 0) async throws -> ModbusPeer {
        try await ModbusPeer(spec: ["transport": "tcp", "host": "127.0.0.1", "port": port], units: units, silentUnits: silentUnits)
    }

    /// Starts an RTU-over-TCP peer (RTU frames on a TCP connection, like a transparent
    /// serial-to-Ethernet gateway) on loopback: on a free port, or on `port` to restart a peer
    /// where a client expects it. As on a real RTU bus, units not in `units` never answer.
    public static func rtuOverTCP(units: [UInt8: Unit], silentUnits: [UInt8] = [], port: Int = 0) async throws -> ModbusPeer {
        try await ModbusPeer(spec: ["transport": "rtu-over-tcp", "host": "127.0.0.1", "port": port], units: units, silentUnits: silentUnits)
    }

    /// Starts an RTU peer on `device` (one end of a ``SerialPair``).
    public static func rtu(device: String, units: [UInt8: Unit], silentUnits: [UInt8] = []) async throws -> ModbusPeer {
        try await ModbusPeer(spec: ["transport": "rtu", "device": device, "baudrate": 9600], units: units, silentUnits: silentUnits)
    }

    private init(spec base: [String: Any], units: [UInt8: Unit], silentUnits: [UInt8]) async throws {
        directory = try TemporaryDirectory(prefix: "modbus-peer")
        var spec = base
        spec["maxSeconds"] = 600
        spec["units"] = Dictionary(uniqueKeysWithValues: units.map { (String($0.key), $0.value.json) })
        spec["silentUnits"] = silentUnits.map { Int($0) }
        let specPath = directory.path("spec.json")
        try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]).write(to: URL(fileURLWithPath: specPath))
        requestLog = directory.path("requests.log")
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Peers/modbus_peer.py").path
        process = try ChildProcess(try TestEnvironment.peerPython(), [script, "--spec", specPath, "--log-requests", requestLog, "--exit-on-stdin-eof"])
        let ready = try await process.waitForLine(startingWith: "READY")
        port = ready.split(separator: "port=").last.flatMap { Int($0) }
    }

    /// Requests the peer received so far (one line each: unit, function, address, count).
    public func requests() -> [String] {
        ((try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    public func stop() async { await process.stop() }
}

/// A pair of connected pseudo-terminals made by socat: a serial line for RTU tests.
public final class SerialPair: Sendable {
    public let clientPath: String
    public let serverPath: String
    private let process: ChildProcess
    private let directory: TemporaryDirectory

    public init() async throws {
        directory = try TemporaryDirectory(prefix: "pty")
        clientPath = directory.path("client")
        serverPath = directory.path("server")
        process = try ChildProcess(try TestEnvironment.tool("socat"), ["-d", "-d", "pty,raw,echo=0,link=\(clientPath)", "pty,raw,echo=0,link=\(serverPath)"])
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: clientPath) && FileManager.default.fileExists(atPath: serverPath) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        await process.stop()
        throw TestSupportError("socat did not create the pty pair: \(process.standardError)")
    }

    public func stop() async { await process.stop() }
}
