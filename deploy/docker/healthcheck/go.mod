module github.com/orderbus/orderbus/deploy/docker/healthcheck

go 1.26.8
