public import ArgumentParser

/// The gateway's command line: `gridledger-agent <subcommand>`.
public struct AgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gridledger-agent",
        abstract: "GridLedger edge agent: reads meters over Modbus, signs every reading, publishes it over MQTT.",
        discussion: """
            Device models are described by YAML profiles (firmware-profiles/), found in
            ./firmware-profiles, $GRIDLEDGER_PROFILES, or /usr/share/gridledger/firmware-profiles.
            """,
        subcommands: [RunCommand.self, KeygenCommand.self, IdentityCommand.self, ReadCommand.self, ScanCommand.self])

    public init() {}

    /// The executable's entry point. Lives here, where ArgumentParser is imported, so the
    /// asynchronous `main` is the one chosen.
    public static func runAsMain() async {
        await main(nil)
    }
}
