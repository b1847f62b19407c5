"""Agent presence: which support agents are connected to answer chats right now."""
