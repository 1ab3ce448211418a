enum PlaceholderDeviceProfilesTests {}
