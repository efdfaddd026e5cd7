// Package port is a process's side of syscall messaging: the slot
// accounting that bounds the messages in flight, the messaging, polling and
// stopped modes with their hysteresis, the reply port the kernel posts
// completions to, and the free list the messages come from.
//
// A [Port] is created from a [Config] (cap, low-water mark, [Policy]). The
// userland scheduler asks [Port.Acquire] for a slot and a [Msg] before it
// sends a system call; the kernel, on any goroutine, calls [Port.Complete]
// when the operation is done; the scheduler calls [Port.Reap], which frees
// the slot, hands back the result as a [Reply] and returns the message to
// the free list. A slot is free only after the reap, never at completion:
// that is the rule the whole design rests on (docs/model.md).
//
// Reaching the cap is where the policy acts: under [Poll] and [PollNoHyst]
// the send that makes in-flight equal the cap puts the port in [Polling]
// mode, under [Stop] in [Stopped] mode, and the reap that brings in-flight
// to the low-water mark or below returns it to [Messaging] and calls the
// upcall. Under [Block] the port stays in messaging mode and Acquire simply
// refuses while every slot is taken.
//
// Sending and reaping do not allocate: messages come from slabs that grow
// only when every message is in use, and a reaped message goes back to the
// free list at once.
package port
