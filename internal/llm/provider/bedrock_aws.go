package provider

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWSKeys are static AWS credentials (an access key, optionally with the
// session token of temporary credentials).
type AWSKeys struct{ ID, Secret, Session string }

// credentialsCheckTimeout bounds the first retrieval of AWS credentials at
// start (the default chain may ask the EC2 metadata service, which is
// absent outside AWS).
const credentialsCheckTimeout = 10 * time.Second

// awsCredentials is what signs Bedrock requests when there is no API key:
// c.AWSCredentials, else c.AWSKeys, else the AWS SDK's default chain. The
// provider is cached (aws.CredentialsCache), so temporary credentials are
// renewed before they expire and each request asks it for the current
// ones. They are retrieved once here, so that a pod without credentials
// says so at start rather than on the first chat.
func awsCredentials(c Config) (aws.CredentialsProvider, error) {
	ctx, cancel := context.WithTimeout(context.Background(), credentialsCheckTimeout)
	defer cancel()
	p := c.AWSCredentials
	switch {
	case p != nil:
	case c.AWSKeys.ID != "":
		p = credentials.NewStaticCredentialsProvider(c.AWSKeys.ID, c.AWSKeys.Secret, c.AWSKeys.Session)
	default:
		// The chain's own calls (STS for a web identity, SSO, the metadata
		// services) use the SDK's client, which honours AWS_CA_BUNDLE and
		// the proxy variables itself.
		cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(c.Region))
		if err != nil {
			return nil, &ConfigError{Reason: ErrMissingSetting, Detail: "ACTIVE_LLM=bedrock: the AWS configuration cannot be read (AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)."}
		}
		p = cfg.Credentials
	}
	if _, ok := p.(*aws.CredentialsCache); !ok {
		p = aws.NewCredentialsCache(p)
	}
	if _, err := p.Retrieve(ctx); err != nil {
		return nil, &ConfigError{Reason: ErrMissingSetting, Detail: "ACTIVE_LLM=bedrock needs AWS_BEARER_TOKEN_BEDROCK (a Bedrock API key) or AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE), or a web identity (EKS IRSA or pod identity); none was found."}
	}
	return p, nil
}
