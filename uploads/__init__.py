"""The patients' upload service: the page behind an upload link, and its tus endpoint.

A process of its own on the patient-facing side (never part of reception's staff app). It
keeps partial uploads on disk, so a restart resumes them, and streams each finished file to
reception with the service token (`POST /api/v1/upload-links/{token}/attachments`).
"""
