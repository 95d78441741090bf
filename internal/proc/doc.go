// Package proc runs the helper processes of hags: hagsd's deactivate
// scripts and the failover manager's resource agents. It is the one place
// that knows how a child is started, watched, bounded and killed, so that
// every helper gets the same treatment:
//
//   - it runs in a process group of its own, so that it and everything it
//     started can be killed at once with kill(-pgid);
//   - it runs with the credentials Spec.Cred gives, without supplementary
//     groups unless they are listed, in Spec.Dir ("/" by default), with
//     exactly the environment Spec.Env gives and stdin from /dev/null;
//   - each line it writes to stdout or stderr becomes one slog record (a
//     line longer than MaxLineBytes becomes several), up to Spec.LogLimit
//     bytes; Spec.CaptureStdout keeps stdout instead, and Spec.TailLines
//     keeps the last few lines as a short account of what went wrong;
//   - at Spec.Timeout, or when its context is cancelled, its whole group
//     gets SIGKILL;
//   - when its first process exits, whatever it left in its group gets
//     SIGKILL too; output is read until the group is gone, and at most
//     Spec.DrainTimeout longer if a process that left the group still
//     holds the pipes;
//   - with Spec.OnParentDeath it dies with the process that started it.
//
// The exit is awaited with waitid(WNOWAIT): the exited process stays an
// unreaped zombie until its group has been killed, so its pid, and with it
// the process group ID, cannot be reused by an unrelated process while we
// still send signals to it.
//
// Run starts a process and waits for it; Start returns a *Process for a
// child that runs for long (the failover manager's exec resources), which
// the caller signals, kills and waits for. A Process owns three goroutines
// (its supervisor and one reader per output pipe); Wait returns after all
// of them have ended.
//
// Dying with the parent. Linux's PR_SET_PDEATHSIG signals a child when the
// thread that forked it ends, not when the process does, and the Go runtime
// ends threads when it likes. Every child that asks for it is therefore
// forked by one goroutine locked to an OS thread for the life of the
// process. That covers the child itself; a child that is a shell forks
// further processes, which PR_SET_PDEATHSIG does not reach.
// KillGroupOnParentDeath adds a guard: a small shell in the child's process
// group (its leader) that waits for end of file on a pipe whose only write
// end this process holds, and kills the whole group when it gets it, which
// happens when this process dies, however it dies.
package proc
