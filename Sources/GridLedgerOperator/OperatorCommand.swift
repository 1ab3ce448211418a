public import ArgumentParser

/// The operator tool: `gridledger <subcommand>`.
public struct OperatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gridledger",
        abstract: "GridLedger operator tool: simulate meters (keys, registry, verification and replay follow).",
        subcommands: [SimulateMeterCommand.self, RegistryCommand.self, VerifyCommand.self, ExportCommand.self, VerifyProofCommand.self])

    public init() {}

    /// The executable's entry point. Lives here, where ArgumentParser is imported, so the
    /// asynchronous `main` is the one chosen.
    public static func runAsMain() async {
        await main(nil)
    }
}
