from .policy_logger import DAFAPolicyLoggerHook

__all__ = ['DAFAPolicyLoggerHook']
