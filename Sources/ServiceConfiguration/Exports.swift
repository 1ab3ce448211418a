// The YAML reading every configuration shares: users of this module get it too.
@_exported public import YAMLConfiguration
