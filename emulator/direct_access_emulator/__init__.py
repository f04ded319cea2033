"""A local, faithful stand-in for the IBM Quantum Direct Access API service."""
