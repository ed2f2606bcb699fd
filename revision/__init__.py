"""Laptop-side revision tooling: put the instance-side hooks into an application's CodeDeploy
revision (appspec.yml merge, deadlines file)."""
