package main

import (
	"strings"
	"testing"
)

func TestSummarizationEnv(t *testing.T) {
	vars := map[string]string{"SUMMARIZATION_MESSAGES": "12", "SUMMARIZATION_TOKENS": "5000", "SUMMARIZATION_KEEP": "6"}
	e, err := readEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Summarization; s.Messages != 12 || s.Tokens != 5000 || s.Keep != 6 {
		t.Fatalf("Summarization = %+v", s)
	}
	vars["SUMMARIZATION_KEEP"] = "-1"
	if _, err := readEnv(func(k string) string { return vars[k] }); err == nil || !strings.Contains(err.Error(), "SUMMARIZATION_KEEP") {
		t.Fatalf("a negative SUMMARIZATION_KEEP: %v", err)
	}
}
