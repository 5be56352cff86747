"""Plumbing run by the Snakefile or a command line, never inside the science of a job: a script's
inputs, outputs and log (`io`), config variants (`variants`), recovery of an interrupted run
(`recovery`) and downloads where the network is (`prefetch`)."""
