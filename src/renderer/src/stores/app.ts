/*
 * The app around the views: version and workspace, the compute backend in use and why, the
 * theme (following the system unless the user picks one), and which overlays are open (job
 * panel, shortcut list). Loads once at start; holds no data of any one view.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppInfo, BackendInfo } from '../../../common/api';
import { errorMessage, getApi } from '../api';
import { demoConfig } from '../../../common/defaults';
import { quantificationWords, trainingWords } from '../utils/engine-words';

export type ThemeChoice = 'system' | 'light' | 'dark';
const THEME_KEY = 'kd-lens-theme';
const JOBS_KEY = 'kd-lens-jobs-open';
const JOBS_AUTO_KEY = 'kd-lens-jobs-auto-open';

function stored(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // storage disabled: the choice holds for this session
  }
}

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const backend = ref<BackendInfo | null>(null);
  const error = ref<string | null>(null);
  const savedTheme = stored(THEME_KEY);
  const themeChoice = ref<ThemeChoice>(savedTheme === 'light' || savedTheme === 'dark' ? savedTheme : 'system');
  const systemDark = ref(false);
  const helpOpen = ref(false);
  // Closed until a job starts (or the user opens it); it opens on a new job unless the user turned that off.
  const jobsOpen = ref(stored(JOBS_KEY) === 'true');
  const jobsAutoOpen = ref(stored(JOBS_AUTO_KEY) !== 'false');

  const theme = computed<'light' | 'dark'>(() =>
    themeChoice.value === 'system' ? (systemDark.value ? 'dark' : 'light') : themeChoice.value
  );
  const backendText = computed(() => {
    const b = backend.value;
    if (b) return b.reason.startsWith(b.name) ? b.reason : `${b.name} — ${b.reason}`;
    if (error.value) return `unknown — ${error.value}`;
    return 'asking the engine…';
  });

  /**
   * The engine of each task in words, short enough for a status bar: "training: ONNX Runtime (CPU),
   * else TF.js (wasm) · quantification: ONNX Runtime (CPU, 2 workers)"; the full reason is in the
   * details. Both are what a new run uses by default (trainEngine and engine 'auto', the default
   * workers); each stage of a run records what actually trained it (the run's stage list).
   */
  const engineSummary = computed(() => {
    const b = backend.value;
    if (!b) return error.value ? 'engine unknown (see details)' : 'asking the engine…';
    if (b.name === 'starting') return 'training: probing the compute backends…';
    const c = demoConfig();
    const training = trainingWords({ trainEngine: c.trainEngine, device: c.device, tfjsBackend: b.name });
    return `training: ${training} · quantification: ${quantificationWords(c)}`;
  });

  async function load(): Promise<void> {
    const api = getApi();
    error.value = null;
    try {
      const [i, b] = await Promise.all([api.getAppInfo(), api.getBackend()]);
      info.value = i;
      backend.value = b;
      if (b.name === 'starting') followProbe();
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  let probeTimer: ReturnType<typeof setTimeout> | null = null;
  /** While the engine still probes its backends, asks again every two seconds (the status bar must not stay at "starting"). */
  function followProbe(): void {
    if (probeTimer) return;
    probeTimer = setTimeout(async () => {
      probeTimer = null;
      try {
        backend.value = await getApi().getBackend();
      } catch (err) {
        error.value = errorMessage(err);
        return;
      }
      if (backend.value.name === 'starting') followProbe();
    }, 2000);
  }

  /** Follows prefers-color-scheme (where matchMedia exists) and applies the theme to <html>. */
  function followSystemTheme(): void {
    const mql = typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
    if (mql) {
      systemDark.value = mql.matches;
      mql.addEventListener?.('change', (e) => {
        systemDark.value = e.matches;
        applyTheme();
      });
    }
    applyTheme();
  }

  function applyTheme(): void {
    document.documentElement.dataset.theme = theme.value;
  }

  function setTheme(choice: ThemeChoice): void {
    themeChoice.value = choice;
    store(THEME_KEY, choice);
    applyTheme();
  }

  /** system → light → dark → system. */
  function cycleTheme(): void {
    setTheme(themeChoice.value === 'system' ? 'light' : themeChoice.value === 'light' ? 'dark' : 'system');
  }

  function setJobsOpen(open: boolean): void {
    jobsOpen.value = open;
    store(JOBS_KEY, String(open));
  }

  function setJobsAutoOpen(auto: boolean): void {
    jobsAutoOpen.value = auto;
    store(JOBS_AUTO_KEY, String(auto));
  }

  return {
    info,
    backend,
    error,
    themeChoice,
    theme,
    backendText,
    engineSummary,
    helpOpen,
    jobsOpen,
    jobsAutoOpen,
    load,
    followSystemTheme,
    setTheme,
    cycleTheme,
    setJobsOpen,
    setJobsAutoOpen
  };
});
