enum PlaceholderModbusCoreTests {}
