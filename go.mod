module github.com/gomonnto/gomonnto

go 1.26
