package workflows

import "github.com/stretchr/testify/mock"

var (
	mockCtx = mock.Anything
	mockAny = mock.Anything
)
