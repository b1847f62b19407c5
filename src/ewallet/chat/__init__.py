"""Online customer service over WebSocket: a bot first, then a queue and a human agent."""
