// A Swift app imports SwitchboardCore alone: the wire models, the configuration reader's errors
// and the journal's records come with it.
@_exported import SwitchboardConfigReader
@_exported import SwitchboardJournal
@_exported import SwitchboardWire
