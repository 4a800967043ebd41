"""The action server: the conversation's steps, the request form, the handoff to reception."""
