module freezer.dev/freezer

go 1.26

require (
	github.com/gophercloud/gophercloud/v2 v2.15.0
	github.com/sirupsen/logrus v1.10.2
)

require golang.org/x/sys v0.47.0 // indirect
