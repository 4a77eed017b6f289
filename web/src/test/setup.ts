import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';

// findBy*/waitFor wait up to 5 s: CI machines are small and may be busy.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
});
