"""The hotline's back office: call-back requests and phone calls logged as tickets."""
