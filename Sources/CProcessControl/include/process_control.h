#ifndef REHEARSE_PROCESS_CONTROL_H
#define REHEARSE_PROCESS_CONTROL_H

/// Makes the calling process adopt orphaned descendants (Linux PR_SET_CHILD_SUBREAPER), so that a
/// step that daemonises is still found and stopped by the harness. Returns 0, or -1 where the
/// platform has no such thing.
int rehearse_become_child_subreaper(void);

#endif
