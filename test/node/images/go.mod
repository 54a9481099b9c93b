module gracekeeper.test/node/images

go 1.24
