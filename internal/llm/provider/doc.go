// Package provider holds the model providers of the Python agent behind
// llm.Model: ollama (native /api/chat), openai and generic-openai
// (openai-go), gemini (genai) and bedrock (aws-sdk-go-v2 Converse), chosen
// from the environment (ACTIVE_LLM, <PROVIDER>_MODEL, mock mode) as the
// Python agent chooses them, plus the model catalog endpoint. They live
// apart from package llm so that the core types do not pull the providers'
// SDKs into every package that speaks of messages.
//
// Each provider keeps its tools' wire or SDK form per tool set, and Ollama
// reuses its line buffers (wire.go), so a call of a long chat re-encodes
// only its messages; transport.go is the shared HTTP client (pool, write
// buffer, stall and drain bounds). Bedrock authenticates with its API key
// (bearer) or, without one, signs with SigV4 using AWS keys or the AWS
// SDK's default credential chain (bedrock_aws.go).
package provider
