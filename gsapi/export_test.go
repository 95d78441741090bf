package gsapi

// DialError exposes dialError's classification of connection failures.
func DialError(err error) error { return dialError(err) }
