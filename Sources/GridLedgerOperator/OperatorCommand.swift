public import ArgumentParser

/// The operator tool: `gridledger <subcommand>`.
public struct OperatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gridledger",
        abstract: "GridLedger operator tool: registry, contracts, invoices, offline verification, meter simulation, trace replay.",
        subcommands: [
            SimulateMeterCommand.self, RegistryCommand.self, ContractCommand.self, InvoiceCommand.self, TraceCommand.self, CommunityCommand.self,
            ReplayCommand.self, VerifyCommand.self, ExportCommand.self, VerifyProofCommand.self,
        ])

    public init() {}

    /// The executable's entry point. Lives here, where ArgumentParser is imported, so the
    /// asynchronous `main` is the one chosen.
    public static func runAsMain() async {
        await main(nil)
    }
}
