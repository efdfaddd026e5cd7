package port

import "unsafe"

// MsgSize is the bytes one message takes in a slab: the kernel memory a
// syscall message costs here, against the seed's estimate of 256.
const MsgSize = int(unsafe.Sizeof(Msg{}))
