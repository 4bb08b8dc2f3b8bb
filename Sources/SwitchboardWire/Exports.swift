// `JSONObject` is an `OrderedDictionary`; re-export its module so users of the wire models can
// build and read objects without importing swift-collections themselves.
@_exported import OrderedCollections
