"""Batch mode: many articles in, one JSONL of checked summaries out.

Stage: orchestration and edge. Modules, in the order a job uses them: ``inputs`` (a JSONL file
or a folder, streamed as articles and error items), ``store`` (the SQLite job state and summary
cache, and ``reconcile``, which repairs the output after a crash), ``runner`` (the asyncio
producer, workers and writer), ``report`` (progress bar and final report), ``ratelimit``
(requests and tokens per minute for the ``openai`` backend) and ``provider`` (the OpenAI Batch
API). The command line is :mod:`summariser.batch_command`. Nothing is imported here, so that
``import summariser.batch.inputs`` stays light.
"""
