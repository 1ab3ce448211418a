import GridLedgerAgent

await AgentCommand.runAsMain()
