enum PlaceholderGridLedgerCoreTests {}
