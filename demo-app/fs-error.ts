/** Node's file-system errors, shortened to the words a user needs in a one-line start-up error. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  }
}
