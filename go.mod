module freezer.dev/freezer

go 1.26
