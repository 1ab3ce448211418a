import GridLedgerOperator

await OperatorCommand.runAsMain()
