import React from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { Provider } from "urql";
import { client } from "./api/client";
import { App } from "./App";
import { initialTheme } from "./components/Layout";
import "./styles.css";

// The theme applies from the first paint, the login page included.
document.documentElement.dataset.theme = initialTheme();

createRoot(document.getElementById("root")!).render(
  <React.StrictMode>
    <Provider value={client}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </Provider>
  </React.StrictMode>,
);
