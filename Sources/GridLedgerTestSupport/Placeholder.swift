enum PlaceholderGridLedgerTestSupport {}
