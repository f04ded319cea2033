"""Running the emulator from tests and other programs: `serve()` yields a `RunningEmulator`.

```python
with serve(EmulatorConfig(execution=ExecutionConfig(duration_secs=0.1))) as emulator:
    env = emulator.env()   # DIRECT_ACCESS_URL, _IAM_URL, _API_KEY, _SERVICE_CRN, _BACKEND
```

`emulator.executor` is the app's executor; with the aer one, `emulator.executor.pool` shows
its workers (`worker_pids()`, `worker_pid(job_id)`).
"""

from __future__ import annotations

from direct_access_emulator.server import RunningEmulator, free_port, serve

__all__ = ["RunningEmulator", "free_port", "serve"]
