package state

// RequestColumns exposes the columns a request is filed with on Postgres.
var RequestColumns = requestColumns
