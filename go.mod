module freezer.dev/freezer

go 1.26.0

require (
	github.com/dsnet/compress v0.0.1
	github.com/klauspost/compress v1.20.4
	github.com/klauspost/pgzip v1.3.0
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/crypto v0.59.0
)

require golang.org/x/sys v0.50.0 // indirect
