await AggregatorCommand.runAsMain()
