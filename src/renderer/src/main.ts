/*
 * Entry of the renderer: Pinia, the hash router, the theme, then the app. Runs the same in
 * Electron (window.kd from the preload) and in a browser (HTTP + WebSocket); see api/index.ts.
 */
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { startRouter } from './router';
import './styles.css';

startRouter();
createApp(App).use(createPinia()).mount('#app');
