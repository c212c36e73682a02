package codec

import "reflect"

// BindingType returns the core message type b binds, for tests.
func BindingType(b Binding) reflect.Type { return b.typ }
