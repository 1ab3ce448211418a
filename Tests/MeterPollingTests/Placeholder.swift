enum PlaceholderMeterPollingTests {}
