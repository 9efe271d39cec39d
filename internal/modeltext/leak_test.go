package modeltext

import (
	"testing"

	"github.com/rancher/ai-agent/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
