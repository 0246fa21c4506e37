package console

// SendMailInline makes the sign-in form send its mail before answering,
// so that a test can tell that a stranger's address got none.
func (c *Console) SendMailInline() { c.mailWait = func(send func()) { send() } }
