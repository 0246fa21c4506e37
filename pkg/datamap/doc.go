// Package datamap draws the registry as an SVG picture on the server: the
// sql stores' collections as boxes (each with its categories, purposes and
// retention), the references between them as arrows, the blob stores
// their file columns point to, the Redis keys, and the processors told of
// erasures. The layout is deterministic (columns by reference depth, rows
// by key), so the same registry always gives the same bytes, and the
// picture needs no script. It carries a title and a description, a title
// per box and per arrow, and Items gives the same content as a list: the
// text alternative to show next to it.
package datamap
