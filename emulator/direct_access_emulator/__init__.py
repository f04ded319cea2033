"""A local, faithful stand-in for the IBM Quantum Direct Access API service.

Where things are (the spec is read through `direct_access_spec`; no client module is imported):

- HTTP: `app` (create_app, routes), `handlers` (one per operationId), `request_bodies` (limits,
  JSON, the typed `CreateJob`), `http_errors` (the error shape, domain-error statuses), `iam`,
  `faults`, `access_log`, `backend_documents`, `job_documents` (jobs as answers, the drift
  profile's metrics); `server` (uvicorn), `testing` (serve), `__main__`.
- Rules: `core` (JobService, lifecycle, lanes, reservations; its listeners), `store` (memory,
  SQLite), `reasons` (every reason code), `runner` (runs jobs for the service).
- Execution: `executor` (the interface, storage access), `shape`, `job_log`; the qiskit extra's
  `aer`, `qiskit_runner`, `workers`, `devices`, `device_backends`.
- Settings: `config` (documented dataclasses, the --help reference), `config_file` (TOML),
  `spec_values`. Storage: `seaweedfs`, `owned_process`.
"""
