package v1alpha1_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rancher/ai-agent/api/v1alpha1"
)

// TestSchemeAndDeepCopy checks that the kinds register under ai.cattle.io/v1alpha1
// and that DeepCopy does not share the pointer fields the controller mutates.
func TestSchemeAndDeepCopy(t *testing.T) {
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	gvks, _, err := s.ObjectKinds(&v1alpha1.AIAgentConfig{})
	if err != nil || len(gvks) != 1 || gvks[0].GroupVersion() != v1alpha1.GroupVersion() || gvks[0].Kind != v1alpha1.Kind {
		t.Fatalf("ObjectKinds = %v, %v", gvks, err)
	}
	model, on := "m", true
	a := &v1alpha1.AIAgentConfig{Spec: v1alpha1.AIAgentConfigSpec{
		LLMModel: &model, Enabled: &on, CABundleRef: &v1alpha1.CABundleRef{Name: "ca"},
		HumanValidationTools: []string{"x"},
	}}
	b := a.DeepCopy()
	*b.Spec.LLMModel, *b.Spec.Enabled, b.Spec.CABundleRef.Name, b.Spec.HumanValidationTools[0] = "n", false, "other", "y"
	if *a.Spec.LLMModel != "m" || !*a.Spec.Enabled || a.Spec.CABundleRef.Name != "ca" || a.Spec.HumanValidationTools[0] != "x" {
		t.Fatalf("DeepCopy shares memory: %+v", a.Spec)
	}
}
