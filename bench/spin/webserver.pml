/*
 * The seed's pipelined web server in Promela, equivalent to sysmsg's
 * built-in "webserver" (window 1), for timing SPIN and sysmsg side by side
 * on the same workload (compare.sh). Per connection: a reader thread that
 * reads a request, pushes it to the writer through a user-level queue and
 * reads ahead; a writer that pops it and writes the response; a client that
 * sends request k+1 only after response k. A kernel and a reaper process
 * per connection complete and reap its messages. One user thread runs at a
 * time because each step is atomic.
 *
 * Compile-time sizes: N connections, R requests, CAP, LOW, POLICY
 * (0 block, 1 stop, 2 poll). A would-block polling attempt is a self-loop
 * in sysmsg; here it is simply not enabled, which reaches the same states.
 */
#ifndef N
#define N 2
#endif
#ifndef R
#define R 2
#endif
#ifndef CAP
#define CAP 2
#endif
#ifndef LOW
#define LOW 0
#endif
#ifndef POLICY
#define POLICY 2
#endif

#define IDLE 0
#define SENT 1
#define DONE 2

byte inb[N];          /* requests sent by the client, not yet read */
byte outb[N];         /* responses written, not yet received */
byte q[N];            /* the user-level queue from reader to writer */
byte rmsg[N];         /* the reader's message: IDLE, SENT, DONE */
byte wmsg[N];         /* the writer's message */
byte inflight;        /* slots held: sent and not yet reaped */
bit polling;          /* poll: polling mode */
bit stopped;          /* stop: stopped until in-flight <= LOW */

/* A send: take a slot; at the cap, the policy acts. */
inline send(m) {
	inflight++; m = SENT;
	if
	:: POLICY == 2 && inflight == CAP -> polling = 1
	:: POLICY == 1 && inflight == CAP -> stopped = 1
	:: else -> skip
	fi
}

/* A send is possible in messaging mode with a free slot. */
#define CANSEND (!polling && !stopped && inflight < CAP)

/* A reap: free the slot; at the low-water mark, leave polling or stopped. */
inline reap(m) {
	m = IDLE; inflight--;
	if
	:: (polling || stopped) && inflight <= LOW -> polling = 0; stopped = 0
	:: else -> skip
	fi
}

proctype reader(byte i) {
	byte k = 0;
	do
	:: k < R ->
		if
		:: atomic { polling && inb[i] > 0 -> inb[i]--; q[i]++; k++ }   /* polled read, then the push */
		:: atomic { CANSEND -> send(rmsg[i]) };
		   atomic { rmsg[i] == IDLE -> q[i]++; k++ }                    /* reaped: push */
		fi
	:: k == R -> break
	od
}

proctype writer(byte i) {
	byte k = 0;
	do
	:: k < R ->
		atomic { wmsg[i] == IDLE && q[i] > 0 -> q[i]-- };
		if
		:: atomic { polling -> outb[i]++; k++ }                          /* polled write */
		:: atomic { CANSEND -> send(wmsg[i]); k++ }
		fi
	:: k == R -> break
	od
}

proctype client(byte i) {
	byte k = 0;
	inb[i]++;
	do
	:: k < R - 1 -> atomic { outb[i] > 0 -> outb[i]-- }; inb[i]++; k++
	:: k == R - 1 -> break
	od;
	atomic { outb[i] > 0 -> outb[i]-- }
}

proctype kernel(byte i) {
end:	do
	:: atomic { rmsg[i] == SENT && inb[i] > 0 -> inb[i]--; rmsg[i] = DONE }
	:: atomic { wmsg[i] == SENT -> outb[i]++; wmsg[i] = DONE }
	:: atomic { rmsg[i] == DONE -> reap(rmsg[i]) }
	:: atomic { wmsg[i] == DONE -> reap(wmsg[i]) }
	od
}

init {
	byte i = 0;
	atomic {
		do
		:: i < N -> run reader(i); run writer(i); run client(i); run kernel(i); i++
		:: i == N -> break
		od
	}
}
